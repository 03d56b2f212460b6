// Package logsrc turns access-log lines into detect.Requests.
//
// A format spec (Compile) names a built-in line shape (nginx-combined,
// apache-combined, common), asks for auto-detection ("auto"), or gives an
// nginx log_format ("nginx:'...'", bare or as the whole directive pasted from
// nginx.conf). The format is compiled once into literals and variables; a line
// is matched by its literal separators, so a value runs to the next literal,
// and quoted values may hold spaces. Run reads a file or stdin, to its end or
// following it (github.com/nxadm/tail), and hands the engine batches.
//
// Parsing allocates only the strings a Request keeps, and a Parser interns the
// values that repeat (hosts, user agents, origins, targets), so a steady log
// costs no allocation per line at all.
package logsrc
