"""The Python user's program of the comparison: each case built as a Python program builds it."""

from tests.provider import cases

for case in cases.CASES:
    case.hosted.component(case.name, case.args)
