"""graphsim: an offline AWS IAM policy simulator over a networkx graph of an IAM world."""

__version__ = "0.1.0"
