"""Remember which commit a binary was built from, so a rebuild is skipped.

OAI builds take tens of minutes; running `configure` again with the same
repository and commit must not rebuild (idempotence), but a changed commit or a
missing binary must.
"""

import json
import os

from . import files

STATE_DIR = "/var/lib/mecpool"


class BuildState(object):
    def __init__(self, name, state_dir=STATE_DIR):
        self.path = os.path.join(state_dir, "{}-build.json".format(name))

    def load(self):
        text = files.read_text(self.path)
        if not text:
            return {}
        try:
            data = json.loads(text)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def is_current(self, repository, commit, binaries):
        """True if the record matches and every binary still exists."""
        record = self.load()
        return (record.get("repository") == repository and record.get("commit") == commit
                and all(os.path.isfile(b) for b in binaries))

    def record(self, repository, commit, binaries):
        data = {"repository": repository, "commit": commit, "binaries": list(binaries)}
        return files.write_file(self.path, json.dumps(data, indent=2, sort_keys=True) + "\n",
                                mode=0o644)
