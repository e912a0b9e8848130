# remla-app image: a static Go binary on distroless, running as non-root,
# with a model baked in at build time.
#
#   docker build -t remla-app:dev .                         # trains the model from data/
#   docker build --build-arg MODEL=models/latest.model .    # bakes an existing model file in
#   docker run -p 8080:8080 -v remla-data:/data remla-app:dev
#
# Run alone, it keeps feedback (and the generated signing key) in /data; the
# chart passes -model, -addr, -color and a shared PostgreSQL and key instead.
# The defaults below serve the baked-in model on :8080.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# MODEL, when set, is a model file in the build context (a symlink such as
# models/latest.model is followed) to bake in instead of training one.
ARG MODEL=""
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/remla/tagger/model.CodeVersion=${VERSION}" \
      -o /out/bin/ ./cmd/remla-app ./cmd/remla-train
RUN mkdir -p /out/models /out/data \
 && if [ -n "$MODEL" ]; then cp -L "$MODEL" /out/models/latest.model; \
    else /out/bin/remla-train train --data data --out /tmp/models && cp -L /tmp/models/latest.model /out/models/latest.model; fi

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bin/remla-app /usr/local/bin/remla-app
COPY --from=build /out/models/latest.model /models/latest.model
# /data must belong to the nonroot user (65532) to hold the feedback database.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV REMLA_MODEL=/models/latest.model \
    REMLA_ADDR=:8080 \
    REMLA_FEEDBACK_DB=/data/feedback.db \
    REMLA_COLOR=blue
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/remla-app"]
