"""The commented starter config that ``watchkeeper init`` writes."""

STARTER_CONFIG = """\
# Watchkeeper config: the checks of your maintenance guide, written down once.
# Validate with `watchkeeper validate watchkeeper.yaml`; run once with `watchkeeper check`;
# run on schedule with `watchkeeper serve`.
version: 1

# Where results are kept: a SQLite file beside this config by default, or a PostgreSQL URL.
# Secrets come only from the environment: ${VAR}, or ${VAR:-default}; they are shown as ***.
# store: ${WATCHKEEPER_STORE:-watchkeeper.db}

defaults:
  interval: 60s        # how often checks run unless they say otherwise
  timeout: 10s         # a check still running after this is stopped and reported as an error
  timezone: UTC        # the timezone of schedules such as "daily at 09:00"

checks:
  # Is the site up? (the guides' `curl -I https://your-domain.com/`)
  - name: homepage
    service: web
    http: {url: "${SITE_URL:-https://example.com}/"}
    interval: 60s
    expect: ['status == 200']
    warn: ['response_time > 500ms']
    critical: ['response_time > 2s']

  # Does the API report itself healthy? (`curl https://api.example.com/api/health`)
  # - name: api-health
  #   service: backend
  #   http: {url: "${API_URL}/api/health"}
  #   interval: 30s
  #   expect: ['status == 200', 'json.status == "healthy"']

  # Will the certificate last? (`openssl s_client -connect example.com:443`)
  - name: certificate
    service: web
    tls: {host: example.com, port: 443}
    schedule: daily at 09:00
    expect: ['verified == true', 'hostname_matches == true']
    warn: ['cert_expires_in < 21d']
    critical: ['cert_expires_in < 7d']

  # Disk space (`df -h`): target < 70%, alert if > 90%.
  - name: disk-root
    service: host
    system: {disk: /}
    warn: ['disk_used_percent > 70']
    critical: ['disk_used_percent > 90']

  # Memory (alert if > 80%).
  - name: memory
    service: host
    system: {disk: /}
    critical: ['memory_used_percent > 80']

  # The database answers (`psql $DATABASE_URL -c "SELECT 1"`).
  # - name: database
  #   service: database
  #   database: {url: "${DATABASE_URL}", query: "SELECT 1"}
  #   warn: ['query_time > 50ms']
  #   critical: ['connections > 80']

  # Any command, run without a shell (`git status`); the check fails on a non-zero exit.
  - name: git-clean
    service: code
    command: {argv: [git, status, --porcelain], cwd: .}
    schedule: daily at 09:00
    expect: ['exit_code == 0']
    warn: ['stdout != ""']
"""
