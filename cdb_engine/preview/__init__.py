"""Preview: a Pulumi program run under the mock runtime, its registrations recorded as the engine
would send them (monitor, collector, SDK speed-ups), and the base revision's own program for `--diff`."""
