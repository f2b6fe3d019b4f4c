# syntax=docker/dockerfile:1
# One image per role: docker build --target lb|backend|all -t foobar-ROLE .
# (README, section Docker). The last stage, all, is the default target.

FROM maven:3-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.m2 mvn -B -q package -DskipTests

# What every role shares: the jar, a non-root user, the data volume, curl for HEALTHCHECK.
FROM eclipse-temurin:17-jre AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/foobar --create-home foobar \
    && mkdir /var/lib/foobar/data && chown foobar:foobar /var/lib/foobar/data
COPY --from=build /src/target/foobar.jar /opt/foobar/foobar.jar
# the image's configuration; mount your site's foobar.yml over it
COPY docker/foobar.yml /etc/foobar/foobar.yml
# ./data (embedded database, internal CA of role all) and ./plugins are relative to this
WORKDIR /var/lib/foobar
VOLUME ["/var/lib/foobar/data"]
USER foobar
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "/opt/foobar/foobar.jar"]

FROM runtime AS lb
EXPOSE 8443 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:9101/ready"]
CMD ["--role=lb", "--config=/etc/foobar/foobar.yml"]

FROM runtime AS backend
# the JVM settings README documents for a backend
ENTRYPOINT ["java", "-Xms160m", "-Xmx256m", "-Xmn96m", "-XX:+UseSerialGC", "-jar", "/opt/foobar/foobar.jar"]
EXPOSE 8081
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:9102/ready"]
CMD ["--role=backend", "--config=/etc/foobar/foobar.yml"]

FROM runtime AS all
EXPOSE 8443 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:9101/ready"]
CMD ["--role=all", "--config=/etc/foobar/foobar.yml"]
