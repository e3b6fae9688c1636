from inkstream.cli import main

raise SystemExit(main())
