# The two commands of the README: `make run` starts bench, `make test` runs lint and types, then every test.
# `make lint` runs the lint and type checks alone. All do the whole set-up first, idempotently
# (apt packages only when missing, a .venv, the package in editable mode with its dev extras only when pyproject.toml changed).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Tools bench drives (hdparm ... adb), what the test tiers use (qemu, socat, tmux,
# poppler, postgresql, nwipe for the benchmark, chromium + its driver for the register's browser tests),
# and what builds the venv.
APT_PACKAGES := hdparm nvme-cli smartmontools sg3-utils util-linux fdisk e2fsprogs udev \
	socat tmux adb libimobiledevice-utils usbmuxd \
	qemu-system-x86 busybox-static cpio zstd kmod dmsetup mdadm \
	poppler-utils postgresql systemd nwipe python3-venv fonts-dejavu-core \
	chromium chromium-driver \
	mmdebstrap squashfs-tools grub-efi-amd64-bin grub-pc-bin ovmf dosfstools mtools

.PHONY: run test lint setup apt venv live

run: setup
	$(BIN)/bench

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Config for all three is in pyproject.toml ([tool.ruff], [tool.mypy]).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The bench live boot stick (build/bench-live.img): Debian packages + this checkout, cached in
# .live-cache/ by a hash of its inputs (first build minutes, unchanged rebuild seconds).
live: setup
	$(BIN)/bench live build --output build/bench-live.img

setup: apt venv

apt:
	@missing=$$(for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		if [ "$$(id -u)" != 0 ]; then echo "run as root to install: $$missing" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@
