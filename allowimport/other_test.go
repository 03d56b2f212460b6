package allowimport

import "testing"

// Rails: examples from the Configuring guide (guides.rubyonrails.org/configuring.html#config-hosts)
// and the HostAuthorization middleware's rules.
func TestRails(t *testing.T) {
	runCases(t, []tcase{
		{
			name:  "guide_name",
			file:  "production.rb",
			src:   "Rails.application.config.hosts << \"product.com\"\n",
			fw:    "rails",
			hosts: []string{"product.com"},
		},
		{
			name:  "guide_regexp_subdomains",
			file:  "production.rb",
			src:   "Rails.application.config.hosts << /.*\\.product\\.com/\n",
			hosts: []string{"*.product.com"},
			notes: []string{`production.rb:1: config.hosts regex '/.*\.product\.com/' was imported as *.product.com`},
		},
		{
			name:  "guide_leading_dot_one_level",
			file:  "production.rb",
			src:   "Rails.application.config.hosts << \".product.com\"\n",
			hosts: []string{"product.com", "*.product.com"},
			notes: []string{"allows product.com and one level of subdomain in Rails"},
		},
		{
			name:  "clear_turns_the_check_off",
			file:  "development.rb",
			src:   "Rails.application.configure do\n  config.hosts.clear\nend\n",
			hosts: []string{"localhost", "*.localhost"},
			notes: []string{"development.rb:2: config.hosts.clear turns Rails' Host check off", "ALLOWED_HOSTS_IN_DEVELOPMENT"},
		},
		{
			name:  "ipaddr_address_and_range",
			file:  "production.rb",
			src:   "config.hosts << IPAddr.new(\"::1\")\nconfig.hosts << IPAddr.new('192.0.2.7/32')\nconfig.hosts << IPAddr.new(\"10.0.0.0/8\")\n",
			hosts: []string{"[::1]", "192.0.2.7"},
			notes: []string{"production.rb:3: config.hosts entry 'IPAddr.new(\"10.0.0.0/8\")' is an address range"},
		},
		{
			name:  "word_arrays_chains_and_methods",
			file:  "application.rb",
			src:   "config.hosts += %w(a.example.com b.example.com)\nconfig.hosts << \"c.example.com\" << 'd.example.com'\nconfig.hosts.push(\"e.example.com\", \"f.example.com\")\nconfig.hosts.concat %i[g.example.com]\n",
			hosts: []string{"a.example.com", "b.example.com", "c.example.com", "d.example.com", "e.example.com", "f.example.com", "g.example.com"},
		},
		{
			name:  "assignment_list_with_port",
			file:  "staging.rb",
			src:   "config.hosts = [\"staging.example.com:3000\", # the port is kept\n  \"staging.example.com\"]\n",
			hosts: []string{"staging.example.com:3000", "staging.example.com"},
		},
		{
			name:  "regex_alternation_and_optional_www",
			file:  "production.rb",
			src:   "config.hosts << /(staging|qa)\\.example\\.net/\nconfig.hosts << /\\A(www\\.)?example\\.org\\z/\nconfig.hosts << /[a-z]+\\d\\.example\\.com/\n",
			hosts: []string{"staging.example.net", "qa.example.net", "example.org", "www.example.org"},
			notes: []string{`'/[a-z]+\d\.example\.com/' is not a plain domain or subdomain pattern; skipped`},
		},
		{
			name:  "env_and_proc_are_dynamic",
			file:  "production.rb",
			src:   "config.hosts << ENV[\"APP_HOST\"]\nconfig.hosts << proc { |host| host.end_with?(\".example.com\") }\nconfig.hosts << \"ok.example.com\"\n",
			hosts: []string{"ok.example.com"},
			notes: []string{"production.rb:1: config.hosts entry 'ENV[\"APP_HOST\"]' is computed", "production.rb:2: config.hosts entry 'proc { |host| host.end_with?(\".example.com\") }' is computed"},
		},
		{
			name:  "interpolated_string_is_dynamic",
			file:  "production.rb",
			src:   "config.hosts << \"#{ENV['TENANT']}.example.com\"\n",
			notes: []string{"is filled in when the application runs"},
		},
		{
			name:  "hostile_heredoc_and_block_comment",
			file:  "production.rb",
			src:   "doc = <<~EOS\n  config.hosts << \"heredoc.example.com\"\nEOS\n=begin\nconfig.hosts << \"comment.example.com\"\n=end\nconfig.hosts << \"real.example.com\" # config.hosts << \"tail.example.com\"\n",
			hosts: []string{"real.example.com"},
		},
		{
			name:  "no_setting_outside_development",
			file:  "config/environments/production.rb",
			src:   "Rails.application.configure do\n  config.eager_load = true\nend\n",
			fw:    "rails",
			notes: []string{"no config.hosts setting found"},
		},
	})
}

// Vite: examples from the server options page
// (vite.dev/config/server-options#server-allowedhosts, preview-options).
func TestVite(t *testing.T) {
	runCases(t, []tcase{
		{
			name:  "docs_leading_dot",
			file:  "vite.config.js",
			src:   "import { defineConfig } from 'vite'\nexport default defineConfig({\n  server: {\n    allowedHosts: ['.example.com'],\n  },\n})\n",
			fw:    "vite",
			hosts: []string{"example.com", "*.example.com", "localhost", "*.localhost"},
			notes: []string{"Vite always answers localhost, *.localhost and every IP address"},
		},
		{
			name:  "docs_true_allows_any_host",
			file:  "vite.config.mjs",
			src:   "export default { server: { allowedHosts: true } }\n",
			hosts: []string{"localhost", "*.localhost"},
			notes: []string{"vite.config.mjs:1: server.allowedHosts is true: Vite answers every Host"},
		},
		{
			name:  "preview_and_server",
			file:  "vite.config.ts",
			src:   "export default defineConfig({\n  server: { allowedHosts: [\"dev.example.com\"] },\n  preview: { allowedHosts: [\"preview.example.com:4173\"] },\n})\n",
			hosts: []string{"dev.example.com", "localhost", "*.localhost"},
			notes: []string{"vite.config.ts:3: preview.allowedHosts entry 'preview.example.com:4173' has a port"},
		},
		{
			name:  "no_setting",
			file:  "vite.config.ts",
			src:   "export default defineConfig({ plugins: [] })\n",
			hosts: []string{"localhost", "*.localhost"},
			notes: []string{"no allowedHosts setting found"},
		},
		{
			name:  "shorthand_property_and_const",
			file:  "vite.config.ts",
			src:   "const allowedHosts = ['app.example.com'] // from the tunnel\nexport default defineConfig({ server: { allowedHosts } })\n",
			hosts: []string{"app.example.com", "localhost", "*.localhost"},
		},
		{
			name:  "env_split_with_fallback",
			file:  "vite.config.ts",
			src:   "export default defineConfig({ server: { allowedHosts: process.env.HOSTS ? process.env.HOSTS.split(',') : ['fallback.example.com'] } })\n",
			hosts: []string{"fallback.example.com", "localhost", "*.localhost"},
			notes: []string{"'process.env.HOSTS.split(',')' is computed"},
		},
		{
			name:  "hostile_template_with_nested_braces_and_regex",
			file:  "vite.config.ts",
			src:   "const re = /allowedHosts: ['no.example.com']/g\nconst s = `${ {a: '}'}.a } allowedHosts: ['tpl.example.com']`\nexport default { server: { /* allowedHosts: ['c.example.com'] */ allowedHosts: ['ok.example.com'] } }\n",
			hosts: []string{"ok.example.com", "localhost", "*.localhost"},
		},
	})
}

// webpack-dev-server: examples from the devServer options page
// (webpack.js.org/configuration/dev-server/#devserverallowedhosts).
func TestWebpack(t *testing.T) {
	runCases(t, []tcase{
		{
			name:  "docs_list",
			file:  "webpack.config.js",
			src:   "module.exports = {\n  //...\n  devServer: {\n    allowedHosts: [\n      'host.com',\n      'subdomain.host.com',\n      'subdomain2.host.com',\n      'host2.com',\n    ],\n  },\n};\n",
			fw:    "webpack-dev-server",
			hosts: []string{"host.com", "subdomain.host.com", "subdomain2.host.com", "host2.com", "localhost", "*.localhost"},
		},
		{
			name:  "docs_leading_dot",
			file:  "webpack.config.js",
			src:   "module.exports = {\n  devServer: {\n    allowedHosts: ['.host.com', 'host2.com'],\n  },\n};\n",
			hosts: []string{"host.com", "*.host.com", "host2.com", "localhost", "*.localhost"},
		},
		{
			name:  "docs_all",
			file:  "webpack.config.js",
			src:   "module.exports = { devServer: { allowedHosts: 'all' } };\n",
			hosts: []string{"localhost", "*.localhost"},
			notes: []string{"devServer.allowedHosts is 'all': the dev server answers every Host"},
		},
		{
			name:  "docs_auto_with_host",
			file:  "webpack.dev.js",
			src:   "module.exports = { devServer: { host: 'dev.example.com', allowedHosts: 'auto' } };\n",
			hosts: []string{"dev.example.com", "localhost", "*.localhost"},
			notes: []string{"devServer.allowedHosts is 'auto'", "devServer.host 'dev.example.com' is also accepted by webpack-dev-server"},
		},
		{
			name:  "docs_single_string",
			file:  "webpack.config.js",
			src:   "module.exports = { devServer: { allowedHosts: 'host.com' } };\n",
			hosts: []string{"host.com", "localhost", "*.localhost"},
		},
		{
			name:  "v3_disable_host_check",
			file:  "webpack.config.js",
			src:   "module.exports = { devServer: { disableHostCheck: true } };\n",
			hosts: []string{"localhost", "*.localhost"},
			notes: []string{"disableHostCheck is true", "no devServer.allowedHosts setting found"},
		},
		{
			name:  "assignment_form",
			file:  "webpack.config.js",
			src:   "const config = require('./base');\nconfig.devServer.allowedHosts = ['a.example.com'];\nmodule.exports = config;\n",
			hosts: []string{"a.example.com", "localhost", "*.localhost"},
		},
	})
}

// MCP TypeScript SDK: the README's DNS rebinding protection example
// (transport options) and the createMcpExpressApp / hostHeaderValidation
// helpers.
func TestMCPTypeScript(t *testing.T) {
	runCases(t, []tcase{
		{
			name: "readme_transport_options",
			file: "server.ts",
			src: `import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
const transport = new StreamableHTTPServerTransport({
  sessionIdGenerator: () => randomUUID(),
  enableDnsRebindingProtection: true,
  allowedHosts: ['127.0.0.1', 'localhost:3000'],
  allowedOrigins: ['https://yourdomain.com', 'https://www.yourdomain.com'],
});
`,
			fw:      "mcp-typescript",
			hosts:   []string{"127.0.0.1", "localhost:3000"},
			origins: []string{"https://yourdomain.com", "https://www.yourdomain.com"},
			notes:   []string{"server.ts:5: allowedHosts entry '127.0.0.1' matches only a Host without a port in the application"},
		},
		{
			name:  "transport_without_protection",
			file:  "server.ts",
			src:   "const t = new StreamableHTTPServerTransport({ allowedHosts: ['localhost:3000'] });\n",
			hosts: []string{"localhost:3000"},
			notes: []string{"only checked with enableDnsRebindingProtection: true"},
		},
		{
			name:  "express_app_hostnames",
			file:  "server.ts",
			src:   "import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';\nconst app = createMcpExpressApp({ host: '0.0.0.0', allowedHosts: ['myapp.local', 'localhost', 'localhost:3000'] });\n",
			hosts: []string{"myapp.local", "localhost"},
			notes: []string{"'localhost:3000' has a port, but the application compares Hosts without their port"},
		},
		{
			name:  "express_app_default_localhost",
			file:  "server.ts",
			src:   "import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';\nconst app = createMcpExpressApp();\n",
			hosts: []string{"127.0.0.1", "localhost", "[::1]"},
			notes: []string{"server.ts:2: createMcpExpressApp() on a loopback host allows the Hosts localhost, 127.0.0.1 and [::1] on any port"},
		},
		{
			name:  "express_app_all_interfaces",
			file:  "server.ts",
			src:   "import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';\nconst app = createMcpExpressApp({ host: '0.0.0.0' });\n",
			notes: []string{"createMcpExpressApp() listens on '0.0.0.0' without allowedHosts: no Host check"},
		},
		{
			name:    "middleware_calls",
			file:    "server.js",
			src:     "const { hostHeaderValidation, originValidation } = require('@modelcontextprotocol/express');\napp.use(hostHeaderValidation(['localhost', '127.0.0.1', '[::1]']));\napp.use(originValidation(['app.example.com']));\n",
			hosts:   []string{"localhost", "127.0.0.1", "[::1]"},
			origins: []string{"http://app.example.com", "https://app.example.com"},
			notes:   []string{"allows that hostname with any scheme and port"},
		},
	})
}

// nginx: examples from "Server names" (nginx.org/en/docs/http/server_names.html).
func TestNginx(t *testing.T) {
	runCases(t, []tcase{
		{
			name:  "docs_exact_names",
			file:  "site.conf",
			src:   "server {\n    listen       80;\n    server_name  example.org  www.example.org;\n}\n",
			fw:    "nginx",
			hosts: []string{"example.org", "www.example.org"},
			notes: []string{"sends a request whose Host matches no server_name to the default server"},
		},
		{
			name:  "docs_wildcards_and_regex",
			file:  "site.conf",
			src:   "server { server_name *.example.org; }\nserver { server_name mail.*; }\nserver { server_name ~^(?<user>.+)\\.example\\.net$; }\n",
			hosts: []string{"*.example.org", "*.example.net"},
			notes: []string{"site.conf:2: server_name 'mail.*' ends in a wildcard", `site.conf:3: server_name regex '~^(?<user>.+)\.example\.net$' was imported as *.example.net`},
		},
		{
			name:  "docs_special_wildcard",
			file:  "site.conf",
			src:   "server { server_name .example.org; }\n",
			hosts: []string{"example.org", "*.example.org"},
		},
		{
			name:  "docs_empty_and_catch_all",
			file:  "nginx.conf",
			src:   "server {\n    listen 80 default_server;\n    server_name _;\n    return 444;\n}\nserver { server_name example.org www.example.org \"\"; }\n",
			hosts: []string{"example.org", "www.example.org"},
			notes: []string{"nginx.conf:3: server_name _ is a catch-all placeholder", `nginx.conf:6: server_name "" (requests without a Host)`},
		},
		{
			name:  "docs_regex_digits_and_quoted_braces",
			file:  "site.conf",
			src:   "server { server_name ~^www\\d+\\.example\\.net$ \"~^(?<name>\\w\\d{1,3}+)\\.example\\.net$\"; }\n",
			notes: []string{"is not a plain domain or subdomain pattern; skipped"},
		},
		{
			name:  "variable_and_include",
			file:  "site.conf",
			src:   "include /etc/nginx/sites-enabled/*;\nserver { server_name $hostname api.example.com; }\n",
			hosts: []string{"api.example.com"},
			notes: []string{"site.conf:1: include '/etc/nginx/sites-enabled/*' was not read", "server_name '$hostname' uses a variable"},
		},
		{
			name:  "hostile_comment_and_quotes",
			file:  "site.conf",
			src:   "server {\n  # server_name commented.example.com;\n  server_name 'quoted.example.com' real.example.com; # trailing.example.com\n}\n",
			hosts: []string{"quoted.example.com", "real.example.com"},
		},
		{
			name:  "hostile_control_bytes",
			file:  "site.conf",
			src:   "server { server_name evil\x1b[31m\x07.example.com ok.example.com; }\n",
			hosts: []string{"ok.example.com"},
			notes: []string{`\x1b`},
		},
	})
}
