"""The GraphQL API and its Starlette app: thin translation over the core."""
