// Package logsrc turns access-log lines into detect.Requests: it reads and
// follows the logs of nginx, Apache httpd, gunicorn, Flask's development
// server (werkzeug), Caddy, Traefik and other JSON loggers, of Zeek and
// Suricata, and of cloud load balancers and CDNs.
//
// # Formats
//
// A format spec (Compile) names a built-in line shape (combined, common,
// vhost_combined, werkzeug, gunicorn, caddy, traefik, json, rebindwatch),
// asks for auto-detection ("auto"), or gives the server's own format string:
// "nginx:" + a log_format, "apache:" + a LogFormat, "gunicorn:" + an
// access_log_format, each bare or pasted as the config has it, or "json:" +
// a field mapping (CompileJSON). Text formats are compiled once into
// literals and fields; a line is cut at its literals, so a value runs to the
// next literal, quoted values may hold spaces and escaped quotes, and times
// of a known layout are measured rather than searched for. JSON lines are
// read by a scanner that walks the line once and descends only into the
// objects the mapping names.
//
// Each format knows what it cannot see: a Request's Blind says so (combined
// has no Host and no Origin; Traefik's default drops every header), so a
// detector is off for it instead of firing on an absence. ServerConfig reads
// an nginx or Apache config and lists its access logs with their formats;
// PrintLogConfig gives a snippet per server that logs the Host, the Origin
// and a key suffix in the "rebindwatch" shape auto-detection knows.
//
// # Keys
//
// A key log field (Keys.IsLogField: $api_key_suffix, %{API_KEY_SUFFIX}e,
// %({api_key_suffix}e)s, a JSON mapping's key) wins over a key header
// column, which wins over the query string: the operator chose the field as
// the key's identity. Values the server redacted (REDACTED, Caddy's empty
// arrays) are no key.
//
// # Reading
//
// Run reads a file, a glob, stdin or a pipe, to its end or following it
// across rotation (rename-and-create, copytruncate, delete-and-recreate),
// and hands the engine batches tagged with each file's path. Gzip-compressed
// rotated logs (.gz) are read decompressed; other binary files are refused
// (ErrBinaryFile). Lines that do not parse are counted and sampled,
// sanitised, in Problems; banners (werkzeug's) are skipped.
//
// With Options.State a followed file resumes where its lines stopped having
// been written by the sinks (checkpoint.go).
//
// # Other sensors and the cloud
//
// Zeek's logs (TSV by their header, or JSON) and Suricata's EVE JSON give
// DNS answers and TLS ClientHellos besides requests; "zeek:DIR" reads a
// Zeek directory's http.log, dns.log and ssl.log as one source in time
// order (zeekdir.go). AWS ALB, CloudFront (W3C), Google Cloud, Cloudflare
// and Azure Front Door logs are formats like the others (format_cloud.go).
//
// Parsing allocates only the strings a Request keeps, and a Parser interns
// the values that repeat (hosts, user agents, origins, targets), so a steady
// log costs no allocation per line at all. Nothing is written to stdout or
// stderr.
package logsrc
