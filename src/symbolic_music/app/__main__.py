import sys

from symbolic_music.app.main import main

sys.exit(main())
