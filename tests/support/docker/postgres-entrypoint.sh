#!/bin/sh
# Start PostgreSQL 15 with TLS: certificate and key from /certs (server.crt, server.key), the superuser's password
# from $POSTGRES_PASSWORD_FILE (initdb on first start; `temporal-dsql-runtime schema setup` creates the databases).
set -eu
bin=/usr/lib/postgresql/15/bin
data=/var/lib/postgresql/data
tls=/var/lib/postgresql/tls
install -d -o postgres -g postgres -m 0700 "$data" "$tls"
install -d -o postgres -g postgres -m 2775 /var/run/postgresql
install -o postgres -g postgres -m 0600 /certs/server.crt /certs/server.key "$tls/"
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
if [ ! -s "$data/PG_VERSION" ]; then
  as_postgres "$bin/initdb" --pgdata="$data" --username=postgres --auth-local=trust --auth-host=scram-sha-256 \
    --pwfile="$POSTGRES_PASSWORD_FILE" --no-locale >/dev/null
  echo "hostssl all all 0.0.0.0/0 scram-sha-256" >>"$data/pg_hba.conf"
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups "$bin/postgres" -D "$data" \
  -c listen_addresses='*' -c ssl=on -c ssl_cert_file="$tls/server.crt" -c ssl_key_file="$tls/server.key" \
  -c unix_socket_directories=/var/run/postgresql -c max_connections=300
