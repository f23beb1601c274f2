"""The MCP door: memory tools for agent hosts, over stdio (`memlane mcp`) and streamable
HTTP (`/mcp` on the running server). Built on the official `mcp` SDK (v2)."""
