# The ambassador image: `legate ambassador` is the entrypoint and runs
# HAProxy itself, so crewjam/ambassador and progrium/ambassadord command
# lines work by changing the image name:
#
#   docker build -f compose/ambassador.Dockerfile -t legate-ambassador .
#   docker run -d --expose 6379 legate-ambassador redis.service.consul
#   docker run -p 5432:5432 legate-ambassador --etcd-prefix=/services/postgres \
#       --master-only --etcd=10.0.0.1:2379 --port=5432
#
# progrium/ambassadord's omni mode: one ambassador for every container that
# links to it, each saying where its ports go in BACKEND_<PORT> variables:
#
#   docker run -d --name backends --cap-add NET_ADMIN \
#       -v /var/run/docker.sock:/var/run/docker.sock \
#       legate-ambassador --omnimode --setup-iptables
#   docker run --link backends:backends -e BACKEND_6379=redis.service.consul app
#       (the app connects to backends:6379)
#
# It runs as PID 1: it reaps every child, stops HAProxy on SIGTERM and
# SIGINT, and restarts it if it dies.  BASE lets a build use a local Debian
# image (legate-base:bookworm, made by debootstrap for the end-to-end test);
# both stages need Debian bookworm.
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
# Marks the throw-away build stage, so it can be pruned after a build.
LABEL org.legate.stage=build
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      gcc libc6-dev make pkg-config \
      libcurl4-openssl-dev libjansson-dev libc-ares-dev libmicrohttpd-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make -j"$(nproc)" bin/legate && strip bin/legate

FROM ${BASE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      haproxy libcurl4 libjansson4 libc-ares2 libmicrohttpd12 iptables \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && mkdir -p /run/legate-ambassador
COPY --from=build /src/bin/legate /usr/local/bin/

# 10000: the port of the SRV, etcd:// and consul:// forms; the others
# listen on their backend's port (expose it with --expose or -p).
EXPOSE 10000
STOPSIGNAL SIGTERM
ENTRYPOINT ["legate", "ambassador"]
