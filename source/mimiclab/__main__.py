import sys

from mimiclab.cli import main

sys.exit(main())
