# syntax=docker/dockerfile:1
# The container behind action.yml (`runs: using: docker, image: Dockerfile`). It only installs the
# package; everything it does is `idm-gate action`, which can be run locally without Docker.

# python:3.11-slim-bookworm pinned by digest, so a re-tag upstream cannot change what the action
# runs. The digest is that of the multi-arch index published as python:3.11.10-slim-bookworm (then
# also tagged 3.11-slim-bookworm); it is pinned the same way in several public Dockerfiles
# (e.g. nalabelle/build, images/digests.Dockerfile). Dependabot's "docker" ecosystem or Renovate's
# dockerfile manager keeps the tag and the digest current together.
FROM python:3.11-slim-bookworm@sha256:5148c0e4bbb64271bca1d3322360ebf4bfb7564507ae32dd639322e4952a6b16

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# git: the baseline store is a git branch, and the base commit's idm.yaml is read with git.
# Not version-pinned: Debian's security archive keeps only the newest build of a package, so a
# pinned "git=1:2.39.x" stops installing as soon as bookworm ships a fix; the base image digest is
# the pin. safe.directory: the workspace is owned by the runner's user while a container action
# runs as root, which git would otherwise refuse as "dubious ownership"; the container only ever
# sees the one checkout it was started on.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && git config --system --add safe.directory '*'

# No WORKDIR: GitHub mounts the workspace and starts the container there (--workdir), which is
# what its Dockerfile guidance asks for. The source is copied to a fixed absolute path instead.
COPY pyproject.toml README.md /opt/idm-gate/
COPY idm_gate/ /opt/idm-gate/idm_gate/
# The package's own dependency ranges come from pyproject.toml; no pip cache kept in the layer.
# `--help` fails the build if the console script or its imports are broken.
RUN pip install --no-cache-dir /opt/idm-gate \
    && idm-gate --help > /dev/null

# No USER: GitHub runs container actions as root with /github/workspace (owned by the runner's
# user) mounted in (docs: "Dockerfile support for GitHub Actions", USER), and that user's uid is
# only known at run time. `idm-gate action` switches to the workspace's owner itself before writing
# anything (idm_gate/github/container.py), so nothing it leaves in the workspace is root's. The
# job's token, not the container user, bounds what the action can do.
# Exec form, so signals reach idm-gate directly and GitHub's `with:` inputs arrive as INPUT_*
# environment variables; action.yml therefore passes no args.
ENTRYPOINT ["idm-gate", "action"]
