"""``python -m simulators.gpu``: serve simulated GPU nodes until SIGINT/SIGTERM."""

from simulators.gpu.serve import main

raise SystemExit(main())
