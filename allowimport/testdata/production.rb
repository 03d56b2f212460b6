require "active_support/core_ext/integer/time"

Rails.application.configure do
  # Settings specified here will take precedence over those in config/application.rb.

  # Code is not reloaded between requests.
  config.enable_reloading = false
  config.eager_load = true

  # Force all access to the app over SSL, use Strict-Transport-Security, and use secure cookies.
  config.force_ssl = true

  # Enable DNS rebinding protection and other `Host` header attacks.
  config.hosts = [
    "example.com",     # Allow requests from example.com
    /.*\.example\.com/ # Allow requests from subdomains like `www.example.com`
  ]
  config.hosts << ".api.example.com"
  config.hosts << "status.example.com:8443"
  config.hosts << IPAddr.new("10.0.0.0/8")
  config.hosts << IPAddr.new("192.0.2.10")
  config.hosts.concat %w[admin.example.com ops.example.com]
  config.hosts << ENV.fetch("APP_HOST", "localhost")
  config.hosts << /(staging|qa)\.example\.net/

  # Skip DNS rebinding protection for the default health check endpoint.
  config.host_authorization = { exclude: ->(request) { request.path == "/up" } }
end
