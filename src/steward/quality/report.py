"""Check results as JUnit XML (one testsuite per dataset, one testcase per check)."""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree as ET

from steward.quality.models import CheckResult


def junit_xml(results: Sequence[CheckResult]) -> str:
    """JUnit XML that CI systems read: `<failure>` for fail, `<error>` for error.

    A warning is a passing testcase carrying a `warning` property and its message in
    `<system-out>`, so CI shows it without failing the job.
    """
    root = ET.Element("testsuites", name="steward quality")
    by_dataset: dict[str, list[CheckResult]] = {}
    for result in results:
        by_dataset.setdefault(result.dataset, []).append(result)
    for dataset, items in by_dataset.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=dataset,
            tests=str(len(items)),
            failures=str(sum(r.status == "fail" for r in items)),
            errors=str(sum(r.status == "error" for r in items)),
            skipped="0",
        )
        for result in items:
            case = ET.SubElement(suite, "testcase", classname=dataset, name=result.name)
            text = f"{result.message} (threshold {result.threshold}, ran by {result.how})"
            if result.status == "fail":
                ET.SubElement(case, "failure", message=result.message, type=result.kind).text = text
            elif result.status == "error":
                ET.SubElement(case, "error", message=result.message, type=result.kind).text = text
            elif result.status == "warn":
                properties = ET.SubElement(case, "properties")
                ET.SubElement(properties, "property", name="warning", value=result.message)
                ET.SubElement(case, "system-out").text = f"warning: {text}"
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def exit_code(results: Sequence[CheckResult]) -> int:
    """1 when an error-severity check failed, else 3 when a check could not run, else 0."""
    if any(r.status == "fail" for r in results):
        return 1
    if any(r.status == "error" for r in results):
        return 3
    return 0
