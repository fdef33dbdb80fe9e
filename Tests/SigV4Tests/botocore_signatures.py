#!/usr/bin/env python3
"""Signs random S3 requests with botocore, the signer the AWS CLI and boto3 use, and prints them
as JSON for the Swift differential test: each request as sent on the wire, botocore's signature, and a presigned URL for the same object.

Usage: botocore_signatures.py COUNT SEED
"""
import json
import random
import sys

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

# Characters that trip signers: spaces, '+', '%', '~', reserved sub-delims, and non-ASCII.
ODD = list("abcXYZ019 +%~!*'()=&$,;:@-_.") + ["é", "ሴ", "日本", "😀", "%2F", "%20"]


def odd_text(rng, low=1, high=12):
    return "".join(rng.choice(ODD) for _ in range(rng.randint(low, high)))


def main():
    count, seed = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        secret = "".join(rng.choice("ABCDEFabcdef0123456789+/") for _ in range(40))
        token = rng.choice([None, "FwoGZXIvYXdzE" + "".join(rng.choice("ab+/=") for _ in range(20))])
        credentials = Credentials("AKIA" + "".join(rng.choice("ABCDEFGHIJ234567") for _ in range(16)), secret, token)
        region = rng.choice(["us-east-1", "eu-west-1", "sa-east-1"])
        key = "/".join(odd_text(rng) for _ in range(rng.randint(1, 3)))
        url = "http://127.0.0.1:9000/bucket/" + _quote(key)
        params = {odd_text(rng, 1, 6): odd_text(rng, 0, 8) for _ in range(rng.randint(0, 3))}
        method = rng.choice(["GET", "PUT", "HEAD", "DELETE"])
        body = odd_text(rng, 0, 30).encode() if method == "PUT" else b""
        headers = {}
        if rng.random() < 0.5:
            headers["Content-Type"] = "text/plain;  charset=utf-8 "
        if rng.random() < 0.5:
            headers["x-amz-meta-note"] = "  two   spaces  "

        request = AWSRequest(method=method, url=url, params=params, data=body, headers=headers)
        S3SigV4Auth(credentials, "s3", region).add_auth(request)
        prepared = request.prepare()
        signed_headers = prepared.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]

        presign_request = AWSRequest(method="GET", url=url, params=params, headers={})
        S3SigV4QueryAuth(credentials, "s3", region, expires=3600).add_auth(presign_request)
        presigned = presign_request.prepare()

        cases.append({
            "accessKeyId": credentials.access_key,
            "secretAccessKey": secret,
            "sessionToken": token,
            "region": region,
            "method": method,
            "target": prepared.url.split("127.0.0.1:9000", 1)[1],
            "headers": [[name, value if isinstance(value, str) else value.decode()] for name, value in prepared.headers.items()],
            "signedHeaders": signed_headers,
            "signature": prepared.headers["Authorization"].rsplit("Signature=", 1)[1],
            "presignedTarget": presigned.url.split("127.0.0.1:9000", 1)[1],
            "key": key,
            "query": [[name, value] for name, value in params.items()],
        })
    json.dump(cases, sys.stdout, ensure_ascii=False)


def _quote(text):
    from urllib.parse import quote
    return quote(text, safe="/~")


if __name__ == "__main__":
    main()
