#!/usr/bin/env python3
"""Checks the REST API's OpenAPI document (as `drydock openapi` prints it) against the OpenAPI
3.1 specification with openapi-spec-validator, an implementation independent of the one that
generated it. Usage: check-openapi.py path/to/drydock"""

import json
import subprocess
import sys

from openapi_spec_validator import validate


def main() -> None:
    printed = subprocess.run([sys.argv[1], "openapi"], check=True, capture_output=True, text=True)
    document = json.loads(printed.stdout)
    validate(document)
    operations = sum(len(item) for item in document["paths"].values())
    schemas = len(document["components"]["schemas"])
    print(f"OpenAPI {document['openapi']}: {operations} operations, {schemas} schemas, valid")


if __name__ == "__main__":
    main()
