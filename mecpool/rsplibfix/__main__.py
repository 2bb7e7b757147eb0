"""``python -m mecpool.rsplibfix [OUTPUT]``: build librspfreshload (what ``make`` runs)."""

import sys

from . import FixBuildError, ensure_built


def main(argv):
    try:
        path = ensure_built(argv[0] if argv else None)
    except FixBuildError as error:
        print("mecpool: {}".format(error), file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
