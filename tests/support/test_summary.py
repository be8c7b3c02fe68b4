#!/usr/bin/env python3
"""The end of tests/run.sh: one summary over every ctest run (their JUnit reports, one per stage)
and every other check (checks.tsv). Lists failures, and skips with their reason and the feature
they name ("[feature:NAME]", from tests/support/required_feature.hpp). Exits non-zero on any
failure and on any skip of a required feature. The last line is "N passed, N failed, N skipped".
"""
import argparse
import pathlib
import re
import sys
import xml.etree.ElementTree as ET

FEATURE = re.compile(r"\[feature:([A-Za-z0-9_.-]+)\]")


def skip_reason(output):
    """The message gtest printed for a skip: the lines after "Skipped" up to "[  SKIPPED ]"."""
    match = re.search(r": Skipped\n(.*?)\n\[  SKIPPED \]", output, re.S)
    if match:
        text = match.group(1)
    else:
        lines = output.strip().splitlines()
        text = lines[-1] if lines else "(no reason printed)"
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", required=True)
    parser.add_argument("--required", default="")
    parser.add_argument("--elapsed", type=int, default=0)
    args = parser.parse_args()
    results = pathlib.Path(args.results)
    required = set(args.required.split())

    passed, failed, skipped = [], [], []  # (stage, name, detail)
    violations = []
    for report in sorted(results.glob("*.xml")):
        stage = report.stem
        try:
            root = ET.parse(report).getroot()
        except ET.ParseError as error:
            failed.append((stage, report.name, f"unreadable JUnit report: {error}"))
            continue
        for case in root.iter("testcase"):
            # ctest appends gtest's "  # GetParam() = ..." to parameterised names.
            name = case.get("name", "?").split("  # GetParam()")[0]
            output = "".join(node.text or "" for node in case.iter("system-out"))
            features = FEATURE.findall(output)
            if case.find("failure") is not None or case.find("error") is not None or case.get("status") == "fail":
                failed.append((stage, name, "required feature unavailable: " + features[0] if features else ""))
                for feature in features:
                    if feature in required:
                        violations.append((stage, name, feature))
            elif case.find("skipped") is not None or case.get("status") in ("notrun", "disabled"):
                reason = skip_reason(output)
                skipped.append((stage, name, reason))
                for feature in features:
                    if feature in required:
                        violations.append((stage, name, feature))
            else:
                passed.append((stage, name, ""))

    checks = results / "checks.tsv"
    if checks.exists():
        for line in checks.read_text().splitlines():
            stage, name, status, detail = (line.split("\t") + ["", "", "", ""])[:4]
            {"passed": passed, "failed": failed, "skipped": skipped}.get(status, failed).append((stage, name, detail))

    print("\n== summary")
    print(f"required features (CC_REQUIRED_FEATURES): {' '.join(sorted(required)) or 'none'}")
    if skipped:
        print(f"skipped ({len(skipped)}):")
        for stage, name, reason in skipped:
            print(f"  {stage}: {name}: {reason}")
    if violations:
        print("skipped or failed for want of a REQUIRED feature:")
        for stage, name, feature in violations:
            print(f"  {stage}: {name}: {feature}")
    if failed:
        print(f"failed ({len(failed)}):")
        for stage, name, detail in failed:
            print(f"  {stage}: {name}" + (f": {detail}" if detail else ""))
    stages = sorted({stage for stage, _, _ in passed + failed + skipped})
    print(f"stages: {' '.join(stages)}; took {args.elapsed // 60} min {args.elapsed % 60} s")
    print(f"{len(passed)} passed, {len(failed)} failed, {len(skipped)} skipped")
    return 1 if failed or violations or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
