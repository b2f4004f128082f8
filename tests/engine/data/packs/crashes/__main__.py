# A pack that dies before it serves: the engine must say so and exit 2.
raise SystemExit("this pack cannot start: missing dependency")
