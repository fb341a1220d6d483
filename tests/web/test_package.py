"""The web app installs under a name of our own, not as a top-level ``web``."""

import importlib.metadata
import subprocess
import sys


def test_the_distribution_installs_animefeat_web_and_no_web_package():
    tops = {name for name, dists in importlib.metadata.packages_distributions().items()
            if "animefeat" in dists}
    assert tops == {"animefeat", "animefeat_web"}


def test_animefeat_web_imports_outside_the_checkout(tmp_path):
    # From another folder, so that the checkout's own web/ folder is not on the path.
    script = ("import importlib.util, animefeat_web; "
              "print(importlib.util.find_spec('web') is None, "
              "callable(animefeat_web.create_app))")
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["True", "True"]
