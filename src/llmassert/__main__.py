import sys

from llmassert._cli import main

sys.exit(main())
