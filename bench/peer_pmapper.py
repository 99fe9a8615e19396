"""Run bench/peers.py's requests through PMapper's local policy evaluation (principalmapper
1.1.5, ``query_interface.local_check_authorization_full``), as a program of its own.

Run with the Python that has principalmapper (bench/peers.py --install makes bench/.peers/pmapper):
    bench/.peers/pmapper/bin/python bench/peer_pmapper.py REQUESTS.jsonl > DECISIONS.jsonl
Prints, per request, the decision of each (action, resource) pair in AWS's order: true or false.
"""

import collections
import collections.abc
import json
import sys

# principalmapper 1.1.5 predates Python 3.10's removal of these aliases.
for _name in ("Mapping", "MutableMapping", "Sequence", "Iterable", "Callable"):
    setattr(collections, _name, getattr(collections.abc, _name))

from principalmapper.common.nodes import Node  # noqa: E402
from principalmapper.common.policies import Policy  # noqa: E402
from principalmapper.querying.query_interface import local_check_authorization_full  # noqa: E402


def main() -> None:
    out = sys.stdout
    with open(sys.argv[1]) as requests:
        for line in requests:
            r = json.loads(line)
            caller = r["CallerArn"]
            account = caller.split(":")[4]
            policies = [Policy(caller, f"p{i}", json.loads(doc)) for i, doc in enumerate(r.get("PolicyInputList", []))]
            boundary = r.get("PermissionsBoundaryPolicyInputList") or []
            node = Node(caller, "AIDAEXAMPLE", policies, [], None, None, 0, False, False,
                        Policy(caller, "boundary", json.loads(boundary[0])) if boundary else None, False, {})
            scps = [[Policy("arn:aws:organizations::" + account + ":policy", f"scp{i}{j}", json.loads(doc)) for j, doc in enumerate(level)]
                    for i, level in enumerate(r.get("ServiceControlPolicyInputList") or [])] or None
            resource_policy = json.loads(r["ResourcePolicy"]) if r.get("ResourcePolicy") else None
            context = {e["ContextKeyName"]: e["ContextKeyValues"] if len(e["ContextKeyValues"]) > 1 else e["ContextKeyValues"][0]
                       for e in r.get("ContextEntries", [])}
            decisions = [
                local_check_authorization_full(node, action, resource, context, resource_policy, account if resource_policy else None, scps)
                for action in r["ActionNames"] for resource in r["ResourceArns"]
            ]
            out.write(json.dumps(decisions) + "\n")


if __name__ == "__main__":
    main()
