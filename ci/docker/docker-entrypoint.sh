#!/bin/sh
# Entry point of harness-pg:<version>, modelled on the official postgres image's:
# on first start initialize $PGDATA (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB,
# POSTGRES_HOST_AUTH_METHOD, POSTGRES_INITDB_ARGS), run a temporary server local
# only, then start the real one listening on every address. Like the official image
# the server says "database system is ready to accept connections" twice (once for
# the temporary server) and prints "PostgreSQL init process complete; ready for
# start up." in between: testcontainers' readiness checks wait for exactly that.
# initdb runs with --no-sync: these servers are throwaway, and the sync costs seconds.
set -eu

PGDATA="${PGDATA:-/var/lib/postgresql/data}"
export PGDATA

# `docker run harness-pg:15 -c fsync=off` means `postgres -c fsync=off`.
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
    set -- postgres "$@"
fi

as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
    else
        "$@"
    fi
}

if [ "$1" = postgres ]; then
    if [ "$(id -u)" = 0 ]; then
        mkdir -p "$PGDATA" /var/run/postgresql
        chown -R postgres:postgres "$PGDATA" /var/run/postgresql
        chmod 0700 "$PGDATA"
        chmod 2775 /var/run/postgresql
    fi
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        user="${POSTGRES_USER:-postgres}"
        db="${POSTGRES_DB:-$user}"
        password="${POSTGRES_PASSWORD:-}"
        method="${POSTGRES_HOST_AUTH_METHOD:-}"
        if [ -z "$method" ]; then
            if [ -n "$password" ]; then method=scram-sha-256; else method=trust; fi
        fi
        pwfile=""
        if [ -n "$password" ]; then
            pwfile="$(mktemp)"
            printf '%s\n' "$password" > "$pwfile"
            chown postgres "$pwfile"
        fi
        # shellcheck disable=SC2086
        as_postgres initdb --username="$user" --encoding=UTF8 --locale=C.UTF-8 --no-sync \
            ${pwfile:+--pwfile="$pwfile"} ${POSTGRES_INITDB_ARGS:-} >/dev/null
        [ -n "$pwfile" ] && rm -f "$pwfile"
        printf '\nhost all all all %s\n' "$method" >> "$PGDATA/pg_hba.conf"
        # The temporary server: local socket only, like the official image's.
        as_postgres pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
        if [ "$db" != postgres ]; then
            as_postgres psql -v ON_ERROR_STOP=1 --username="$user" --dbname=postgres \
                -q -c "CREATE DATABASE \"$db\"" >/dev/null
        fi
        as_postgres pg_ctl -D "$PGDATA" -m fast -w stop
        echo
        echo 'PostgreSQL init process complete; ready for start up.'
        echo
    fi
    shift
    # exec: the server is PID 1's replacement and gets docker stop's signal.
    if [ "$(id -u)" = 0 ]; then
        exec setpriv --reuid=postgres --regid=postgres --init-groups -- \
            postgres -c listen_addresses='*' "$@"
    fi
    exec postgres -c listen_addresses='*' "$@"
fi

exec "$@"
