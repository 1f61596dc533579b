from dnadx.cli import main

raise SystemExit(main())
