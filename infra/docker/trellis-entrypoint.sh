#!/bin/sh
# `trellis ARGS` inside the image: the JVM options Spark needs on Java 17 (from the build), then the CLI.
# TRELLIS_JAVA_OPTS sets heap and the like (default -XX:MaxRAMPercentage=75: follow the container's limit).
set -eu
exec java ${TRELLIS_JAVA_OPTS:--XX:MaxRAMPercentage=75} $(cat /opt/trellis/jvm.options) \
  -cp '/opt/trellis/lib/*' io.trellis.workers.cli.TrellisCli "$@"
