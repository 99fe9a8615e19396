"""The IAM world graph: nodes, edges with provenance, path queries. No HTTP, no SQL."""

from .graph import AWS_MANAGED_ACCOUNT, PolicyAttachment, World
from .model import EdgeKind, NodeKind, PathStep, PolicyType, render_path

__all__ = ["AWS_MANAGED_ACCOUNT", "EdgeKind", "NodeKind", "PathStep", "PolicyAttachment", "PolicyType", "World", "render_path"]
