import sys

from .configure import main

sys.exit(main())
