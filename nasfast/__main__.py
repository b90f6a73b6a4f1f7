from nasfast.cli.main import main

raise SystemExit(main())
