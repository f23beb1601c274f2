"""`memlane` with the test fakes registered: `python tests/fake_serve.py serve ...`."""
import fakes  # noqa: F401  (registers the fakes)
import fakes_voice  # noqa: F401
from memlane.cli import main

if __name__ == "__main__":
    main()
