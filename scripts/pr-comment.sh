#!/usr/bin/env bash
# Keep ONE comment per marker on a pull request up to date: edit the bot's previous comment that
# carries the hidden marker, or add it the first time. Used by .github/workflows/pull-request.yml.
#   scripts/pr-comment.sh MARKER BODY_FILE    (env: GH_TOKEN, GITHUB_REPOSITORY, PR_NUMBER)
set -euo pipefail
marker="$1"
body="$2"
[[ "$marker" =~ ^'<!-- '[A-Za-z0-9:._-]+' -->'$ ]] || { echo "pr-comment: the marker must read <!-- name:stack -->" >&2; exit 2; }
[ -s "$body" ] || { echo "pr-comment: $body is empty or missing; nothing posted" >&2; exit 2; }
grep -qF -- "$marker" "$body" || { echo "pr-comment: $body lacks the marker $marker" >&2; exit 2; }
# Only the workflow's own comments: a person quoting the marker must never have theirs overwritten.
id="$(gh api --paginate "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments" \
  --jq '.[] | select(.user.login == "github-actions[bot]") | select(.body | contains("'"$marker"'")) | .id' \
  | tail -n 1)"
if [ -n "$id" ]; then
  gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$id" -F "body=@$body" --silent
  echo "pr-comment: updated comment $id"
else
  gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments" -F "body=@$body" --silent
  echo "pr-comment: added a comment"
fi
