import sys

from controller.cli.entry import main

sys.exit(main())
