"""Notes MCP server over Streamable HTTP, with DNS rebinding protection."""

from mcp.server.fastmcp import FastMCP
from mcp.server.transport_security import TransportSecuritySettings

LOCAL_HOSTS = ["localhost:*", "127.0.0.1:8000", "[::1]:*"]

security = TransportSecuritySettings(
    enable_dns_rebinding_protection=True,
    allowed_hosts=LOCAL_HOSTS + ["mcp.example.com"],
    allowed_origins=[
        "http://localhost:*",
        "https://claude.ai",
        "http://127.0.0.1:8000",
    ],
)

mcp = FastMCP("notes", host="127.0.0.1", port=8000, transport_security=security)


@mcp.tool()
def add_note(text: str) -> str:
    """Store a note."""
    return "ok"


if __name__ == "__main__":
    mcp.run(transport="streamable-http")
