package allowimport

import "testing"

// Django: examples from the settings reference
// (docs.djangoproject.com/en/stable/ref/settings/#allowed-hosts and
// #csrf-trusted-origins), then the ways real settings files write them.
func TestDjango(t *testing.T) {
	runCases(t, []tcase{
		{
			name:    "docs_exact_name",
			file:    "settings.py",
			src:     "ALLOWED_HOSTS = ['www.example.com']\n",
			fw:      "django",
			hosts:   []string{"www.example.com"},
			origins: []string{"https://www.example.com", "http://www.example.com"},
			notes:   []string{"settings.py: Django's CSRF check also accepts"},
		},
		{
			name:    "docs_leading_dot_is_domain_and_subdomains",
			file:    "settings.py",
			src:     "ALLOWED_HOSTS = ['.example.com']\n",
			hosts:   []string{"example.com", "*.example.com"},
			origins: []string{"https://example.com", "http://example.com", "https://*.example.com", "http://*.example.com"},
		},
		{
			name:  "docs_star_matches_anything",
			file:  "settings.py",
			src:   "ALLOWED_HOSTS = ['*']\n",
			notes: []string{"settings.py:1: ALLOWED_HOSTS contains '*': the application accepts every Host, so rebindwatch's Host check would never fire"},
		},
		{
			name:    "docs_debug_empty_defaults",
			file:    "settings.py",
			src:     "DEBUG = True\nALLOWED_HOSTS = []\n",
			hosts:   []string{"localhost", "*.localhost", "127.0.0.1", "[::1]"},
			origins: []string{"https://localhost", "http://localhost", "https://*.localhost", "http://*.localhost", "https://127.0.0.1", "http://127.0.0.1", "https://[::1]", "http://[::1]"},
			notes:   []string{"settings.py:2: ALLOWED_HOSTS is empty", "DEBUG = True: imported Django's development defaults"},
		},
		{
			name:    "docs_csrf_wildcard_also_allows_the_domain",
			file:    "settings.py",
			src:     "CSRF_TRUSTED_ORIGINS = ['https://*.example.com']\n",
			origins: []string{"https://*.example.com", "https://example.com"},
			notes:   []string{"no ALLOWED_HOSTS setting found"},
		},
		{
			name:    "csrf_port_and_path",
			file:    "settings.py",
			src:     "CSRF_TRUSTED_ORIGINS = ['https://*.example.com:8443', 'https://app.example.com:443/', 'HTTPS://Admin.Example.com/login']\n",
			origins: []string{"https://*.example.com:8443", "https://example.com:8443", "https://app.example.com", "https://admin.example.com"},
			notes:   []string{"has a path, which an Origin never has; imported without it"},
		},
		{
			name:  "csrf_without_scheme_pre_django4",
			file:  "settings.py",
			src:   "CSRF_TRUSTED_ORIGINS = ['example.com']\n",
			notes: []string{"CSRF_TRUSTED_ORIGINS entry 'example.com' is not scheme://host[:port]; skipped"},
		},
		{
			name:    "port_never_matches",
			file:    "settings.py",
			src:     "ALLOWED_HOSTS = ['api.example.com:8000', 'api.example.com']\n",
			hosts:   []string{"api.example.com"},
			origins: []string{"https://api.example.com", "http://api.example.com"},
			notes:   []string{"settings.py:1: ALLOWED_HOSTS entry 'api.example.com:8000' has a port, but the application compares Hosts without their port, so it never matches; skipped"},
		},
		{
			name: "tuple_multiline_comments_trailing_comma",
			file: "settings.py",
			src: `ALLOWED_HOSTS = (
    'a.example.com',  # the API
    # 'old.example.com',
    "b.example.com",
)
`,
			hosts:   []string{"a.example.com", "b.example.com"},
			origins: []string{"https://a.example.com", "http://a.example.com", "https://b.example.com", "http://b.example.com"},
		},
		{
			name: "plus_equals_append_extend_insert",
			file: "settings.py",
			src: `ALLOWED_HOSTS = ["a.example.com"]
ALLOWED_HOSTS += ["b.example.com"]
ALLOWED_HOSTS.append("c.example.com")
ALLOWED_HOSTS.extend(["d.example.com", "e.example.com"])
ALLOWED_HOSTS.insert(0, "f.example.com")
`,
			hosts: []string{"a.example.com", "b.example.com", "c.example.com", "d.example.com", "e.example.com", "f.example.com"},
			origins: []string{"https://a.example.com", "http://a.example.com", "https://b.example.com", "http://b.example.com",
				"https://c.example.com", "http://c.example.com", "https://d.example.com", "http://d.example.com",
				"https://e.example.com", "http://e.example.com", "https://f.example.com", "http://f.example.com"},
			noNotes: []string{"assigned"},
		},
		{
			name:    "env_var_split_is_dynamic",
			file:    "settings.py",
			src:     "import os\nALLOWED_HOSTS = os.environ.get('ALLOWED_HOSTS', 'localhost').split(',')\n",
			notes:   []string{"settings.py:2: ALLOWED_HOSTS entry 'os.environ.get('ALLOWED_HOSTS', 'localhost').split(',')' is computed when the application runs; not imported"},
			noNotes: []string{"is empty"},
		},
		{
			name:    "literal_split",
			file:    "settings.py",
			src:     "ALLOWED_HOSTS = 'a.example.com, b.example.com'.split(',')\n",
			hosts:   []string{"a.example.com", "b.example.com"},
			origins: []string{"https://a.example.com", "http://a.example.com", "https://b.example.com", "http://b.example.com"},
		},
		{
			name:    "list_plus_env",
			file:    "settings.py",
			src:     "ALLOWED_HOSTS = ['a.example.com'] + os.environ['EXTRA'].split()\n",
			hosts:   []string{"a.example.com"},
			origins: []string{"https://a.example.com", "http://a.example.com"},
			notes:   []string{"ALLOWED_HOSTS entry 'os.environ['EXTRA'].split()' is computed"},
		},
		{
			name:    "conditional_expression_both_branches",
			file:    "settings.py",
			src:     "ALLOWED_HOSTS = ['dev.example.com'] if DEBUG else ['example.com']\n",
			hosts:   []string{"dev.example.com", "example.com"},
			origins: []string{"https://dev.example.com", "http://dev.example.com", "https://example.com", "http://example.com"},
		},
		{
			name: "assigned_per_environment",
			file: "settings.py",
			src: `if DEBUG:
    ALLOWED_HOSTS = ["localhost"]
else:
    ALLOWED_HOSTS = ["example.com"]
`,
			hosts:   []string{"localhost", "example.com"},
			origins: []string{"https://localhost", "http://localhost", "https://example.com", "http://example.com"},
			notes:   []string{"settings.py:4: ALLOWED_HOSTS is assigned 2 times"},
		},
		{
			name:  "django_environ_is_dynamic",
			file:  "settings.py",
			src:   "ALLOWED_HOSTS = env.list('ALLOWED_HOSTS', default=['example.com'])\n",
			notes: []string{"is computed when the application runs"},
		},
		{
			name:    "variable_defined_earlier",
			file:    "settings.py",
			src:     "HOSTS = ['a.example.com']\nEXTRA = ('b.example.com',)\nALLOWED_HOSTS = [*HOSTS, *EXTRA]\n",
			hosts:   []string{"a.example.com", "b.example.com"},
			origins: []string{"https://a.example.com", "http://a.example.com", "https://b.example.com", "http://b.example.com"},
		},
		{
			name:    "annotated_assignment",
			file:    "settings.py",
			src:     "ALLOWED_HOSTS: list[str] = ['a.example.com']\n",
			hosts:   []string{"a.example.com"},
			origins: []string{"https://a.example.com", "http://a.example.com"},
		},
		{
			name:  "fstring_is_dynamic",
			file:  "settings.py",
			src:   "ALLOWED_HOSTS = [f'{TENANT}.example.com']\n",
			notes: []string{"ALLOWED_HOSTS entry 'f'{TENANT}.example.com'' is filled in when the application runs"},
		},
		{
			name:    "uppercase_trailing_dot_ipv6",
			file:    "settings.py",
			src:     "ALLOWED_HOSTS = ['API.Example.COM.', '::1', '[0:0:0:0:0:0:0:1]']\n",
			hosts:   []string{"api.example.com", "[::1]"},
			origins: []string{"https://api.example.com", "http://api.example.com", "https://[::1]", "http://[::1]"},
		},
		{
			name:    "star_dot_is_not_django_syntax",
			file:    "settings.py",
			src:     "ALLOWED_HOSTS = ['*.example.com']\n",
			hosts:   []string{"*.example.com"},
			origins: []string{"https://*.example.com", "http://*.example.com"},
			notes:   []string{"is not a wildcard for this application"},
		},
		// Hostile and tricky inputs.
		{
			name:    "hostile_docstring_and_comment_mention_the_setting",
			file:    "settings.py",
			src:     "\"\"\"\nALLOWED_HOSTS = ['doc.example.com']\n\"\"\"\n# ALLOWED_HOSTS = ['old.example.com']\nALLOWED_HOSTS = ['real.example.com']\n",
			hosts:   []string{"real.example.com"},
			origins: []string{"https://real.example.com", "http://real.example.com"},
		},
		{
			name:    "hostile_escape_sequence_in_entry",
			file:    "settings.py",
			src:     "ALLOWED_HOSTS = ['evil\\x1b[2J.example.com', 'ok.example.com']\n",
			hosts:   []string{"ok.example.com"},
			origins: []string{"https://ok.example.com", "http://ok.example.com"},
			notes:   []string{`'evil\x1b[2J.example.com' is not a host name; skipped`},
		},
		{
			name:    "hostile_url_and_path",
			file:    "settings.py",
			src:     "ALLOWED_HOSTS = ['https://example.com', 'example.com/admin', 'a b', 'x@y.com']\n",
			notes:   []string{"'https://example.com'", "'example.com/admin' is not a host name"},
			noNotes: []string{"assigned"},
		},
		{
			// A Python string ends at the line break even when unterminated,
			// so the rest of the file is still read.
			name:    "hostile_unterminated_string",
			file:    "settings.py",
			src:     "ALLOWED_HOSTS = ['a.example.com\nDEBUG = False\n",
			hosts:   []string{"a.example.com"},
			origins: []string{"https://a.example.com", "http://a.example.com"},
		},
		{
			name: "hostile_deep_nesting",
			file: "settings.py",
			src:  "ALLOWED_HOSTS = " + repeat("[", 5000) + "'deep.example.com'" + repeat("]", 5000) + "\n",
		},
		{
			// Thousands of unclosed lists make every assignment read to the
			// end of the file; the work budget stops that and says so.
			name:  "hostile_backtracking",
			file:  "settings.py",
			src:   repeat("ALLOWED_HOSTS = [", 5000) + "\nALLOWED_HOSTS = ['late.example.com']\n",
			notes: []string{"settings.py: the file is too convoluted to read completely; the import stopped early"},
		},
		{
			name:  "hostile_self_reference",
			file:  "settings.py",
			src:   "A = B\nB = A\nALLOWED_HOSTS = A\n",
			notes: []string{"is computed when the application runs"},
		},
		{
			name:  "hostile_non_ascii_name",
			file:  "settings.py",
			src:   "ALLOWED_HOSTS = ['bücher.example']\n",
			notes: []string{"'bücher.example' is not ASCII; write the name in its xn-- (punycode) form"},
		},
	})
}

func repeat(s string, n int) string {
	b := make([]byte, 0, len(s)*n)
	for i := 0; i < n; i++ {
		b = append(b, s...)
	}
	return string(b)
}

// Flask: examples from the configuration reference
// (flask.palletsprojects.com/en/stable/config/#TRUSTED_HOSTS, #SERVER_NAME),
// werkzeug's Request.trusted_hosts, and the ways apps set config.
func TestFlask(t *testing.T) {
	runCases(t, []tcase{
		{
			name:  "docs_exact_or_leading_dot",
			file:  "config.py",
			src:   "TRUSTED_HOSTS = ['example.com', '.example.org']\n",
			fw:    "flask",
			hosts: []string{"example.com", "example.org", "*.example.org"},
		},
		{
			name:  "config_subscript",
			file:  "app.py",
			src:   "from flask import Flask\napp = Flask(__name__)\napp.config['TRUSTED_HOSTS'] = ['api.example.com']\n",
			hosts: []string{"api.example.com"},
		},
		{
			name:  "config_update_kwargs_with_server_name",
			file:  "app.py",
			src:   "app.config.update(\n    TRUSTED_HOSTS=['api.example.com'],\n    SERVER_NAME='api.example.com:8443',\n)\n",
			hosts: []string{"api.example.com", "api.example.com:8443"},
			notes: []string{"app.py:3: SERVER_NAME 'api.example.com:8443' names the server but, since Flask 3.1, does not restrict"},
		},
		{
			name:  "from_mapping_dict",
			file:  "app.py",
			src:   "app.config.from_mapping({\"TRUSTED_HOSTS\": [\"a.example.com\"], \"SECRET_KEY\": \"x\"})\n",
			hosts: []string{"a.example.com"},
		},
		{
			name:  "environ_assignment_is_not_the_setting",
			file:  "app.py",
			src:   "import os\nos.environ['TRUSTED_HOSTS'] = 'env.example.com'\napp.config['TRUSTED_HOSTS'] = ['cfg.example.com']\n",
			hosts: []string{"cfg.example.com"},
		},
		{
			name:  "werkzeug_ignores_the_port",
			file:  "config.py",
			src:   "TRUSTED_HOSTS = ['localhost:5000']\n",
			hosts: []string{"localhost"},
			notes: []string{"config.py:1: TRUSTED_HOSTS entry 'localhost:5000' has a port the application ignores (any port is allowed); imported without it"},
		},
		{
			name:  "none_accepts_everything",
			file:  "config.py",
			src:   "TRUSTED_HOSTS = None\n",
			notes: []string{"config.py:1: TRUSTED_HOSTS is None: Flask accepts every Host"},
		},
		{
			name:  "no_setting",
			file:  "app.py",
			src:   "from flask import Flask\napp = Flask(__name__)\n",
			fw:    "flask",
			notes: []string{"no TRUSTED_HOSTS setting found: Flask accepts every Host"},
		},
		{
			name:  "werkzeug_request_subclass",
			file:  "wsgi.py",
			src:   "from werkzeug.wrappers import Request\nclass TrustedRequest(Request):\n    trusted_hosts = ['.example.com']\n",
			hosts: []string{"example.com", "*.example.com"},
		},
		{
			name:  "star_is_not_a_werkzeug_wildcard",
			file:  "config.py",
			src:   "TRUSTED_HOSTS = ['*']\n",
			notes: []string{"contains '*'"},
		},
	})
}

// MCP Python SDK: the README's TransportSecuritySettings example and
// FastMCP's automatic protection (mcp/server/fastmcp/server.py).
func TestMCPPython(t *testing.T) {
	runCases(t, []tcase{
		{
			name: "readme_transport_security",
			file: "server.py",
			src: `from mcp.server.transport_security import TransportSecuritySettings
mcp = FastMCP("My App", transport_security=TransportSecuritySettings(
    enable_dns_rebinding_protection=True,
    allowed_hosts=["localhost:*", "127.0.0.1:*"],
    allowed_origins=["http://localhost:*"],
))
`,
			fw:      "mcp-python",
			hosts:   []string{"localhost", "127.0.0.1"},
			origins: []string{"http://localhost:*"},
		},
		{
			name:    "exact_port_and_no_port",
			file:    "server.py",
			src:     "s = TransportSecuritySettings(allowed_hosts=['mcp.example.com:8443', 'mcp.example.com'], allowed_origins=['https://app.example.com', 'https://app.example.com:443'])\n",
			hosts:   []string{"mcp.example.com:8443", "mcp.example.com"},
			origins: []string{"https://app.example.com"},
			notes:   []string{"allowed_hosts entry 'mcp.example.com' matches only a Host without a port in the application; rebindwatch's mcp.example.com allows every port"},
		},
		{
			name:  "fastmcp_loopback_defaults",
			file:  "server.py",
			src:   "from mcp.server.fastmcp import FastMCP\nmcp = FastMCP('demo')\n",
			hosts: []string{"127.0.0.1", "localhost", "[::1]"},
			notes: []string{"server.py:2: FastMCP on a loopback host without transport_security allows Hosts 127.0.0.1, localhost and [::1]"},
		},
		{
			name:  "fastmcp_all_interfaces",
			file:  "server.py",
			src:   "from mcp.server.fastmcp import FastMCP\nmcp = FastMCP('demo', host='0.0.0.0')\n",
			notes: []string{"FastMCP listens on '0.0.0.0' without transport_security: the SDK does no Host check"},
		},
		{
			name:  "protection_off",
			file:  "server.py",
			src:   "s = TransportSecuritySettings(enable_dns_rebinding_protection=False, allowed_hosts=['localhost:8000'])\n",
			hosts: []string{"localhost:8000"},
			notes: []string{"enable_dns_rebinding_protection is False"},
		},
		{
			name:  "empty_refuses_everything",
			file:  "server.py",
			src:   "s = TransportSecuritySettings(allowed_hosts=[])\n",
			notes: []string{"allowed_hosts is empty"},
		},
	})
}
