"""The agent: turns a question into retrieval, tool calls and a grounded, cited answer."""
