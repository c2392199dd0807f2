"""Every example the README and --help show is run: by scripts/check_examples.py (its measured
time is in the README) or by the test named in its SUITE list. This test only checks the lists
against the documents (it runs nothing), so a new or changed example fails here until it is
listed and run."""

import importlib.util
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("check_examples",
                                              REPO / "scripts" / "check_examples.py")
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)


def test_every_documented_example_is_run_by_the_script_or_a_test():
    docs = check.documented()
    listed = {check.normalise(d) for e in check.EXAMPLES for d in e[0]}
    assert len(docs) >= 20  # README code blocks and --help epilogs were both read
    assert [d for d in docs if d not in check.SUITE and d not in listed] == []
    # and nothing listed is stale: each entry is a documented example
    assert [d for d in listed | set(check.SUITE) if d not in docs] == []


def test_suite_entries_name_tests_that_exist():
    for where in check.SUITE.values():
        if where.startswith(".ci/run"):
            assert (REPO / ".ci" / "run").is_file()
            continue
        path, name = where.split("::")
        assert re.search(rf"^def {name}\(", (REPO / path).read_text(), re.M), where


def test_the_extractors_read_continuations_comments_and_help_lines():
    text = "x\n```bash\ntranslate-synth run --a \\\n    --b 1   # note\npip x\n```\n"
    assert check.readme_examples(text) == ["translate-synth run --a --b 1"]
    assert "translate-synth evaluate bergamot out/pt --out eval/bergamot" in check.help_examples()
