"""What goes into the live image, as data: Debian packages, what is left out, and the files
the image carries (initramfs overlay hook, systemd units, boot menu). `build` keys its layers by
these values: the Debian layer by the packages, hooks and units; the image by the boot loader's.
"""

from __future__ import annotations

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"

#: The kernel, an init, the tools bench drives, and Python. No recommends, no docs.
PACKAGES: tuple[str, ...] = (
    "linux-image-amd64",
    "initramfs-tools",
    "zstd",
    "systemd-sysv",
    "systemd-resolved",
    "udev",
    "kmod",
    "python3",
    "hdparm",
    "nvme-cli",
    "smartmontools",
    "sg3-utils",
    "util-linux",
    "fdisk",
    "dmidecode",
    "ca-certificates",
    "iproute2",
)

DPKG_OPTIONS: tuple[str, ...] = (
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/locale/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/lintian/*",
)

#: Kernel module trees a wiping console never loads (sound, cameras, Wi-Fi, InfiniBand...).
#: Storage, USB, PCI, DRM (the screen's EDID) and wired Ethernet stay.
PRUNED_MODULES: tuple[str, ...] = (
    "sound",
    "drivers/media",
    "drivers/net/wireless",
    "drivers/infiniband",
    "drivers/staging",
    "drivers/isdn",
    "drivers/iio",
    "drivers/bluetooth",
    "drivers/gpu/drm/amd",
    "drivers/gpu/drm/nouveau",
    "drivers/gpu/drm/radeon",
    "net/wireless",
    "net/mac80211",
    "net/bluetooth",
    "fs/ocfs2",
    "fs/gfs2",
    "fs/ceph",
    "fs/nfs",
    "fs/nfsd",
    "fs/smb",
    "fs/xfs",
    "fs/btrfs",
)

#: Modules the initramfs must hold to find the stick and mount the system partition.
INITRAMFS_MODULES: tuple[str, ...] = (
    "squashfs",
    "overlay",
    "vfat",
    "nls_cp437",
    "nls_ascii",
    "usb_storage",
    "uas",
    "xhci_pci",
    "ehci_pci",
    "sd_mod",
    "nvme",
    "ahci",
    "sdhci_pci",
    "mmc_block",
)

#: initramfs-tools init-bottom hook: the read-only squashfs becomes the lower layer of an
#: overlay on tmpfs, so the system runs writable in RAM and never writes to the stick's
#: system partition. The squashfs stays mounted at /run/live/system (the guard sees the stick
#: in use through it).
OVERLAY_HOOK = """#!/bin/sh
PREREQ=""
prereqs() { echo "$PREREQ"; }
case "$1" in prereqs) prereqs; exit 0;; esac
set -e
mkdir -p /run/live/system /run/live/rw
mount -n -o move "${rootmnt}" /run/live/system
mount -n -t tmpfs -o mode=0755 tmpfs /run/live/rw
mkdir -p /run/live/rw/upper /run/live/rw/work
mount -n -t overlay -o lowerdir=/run/live/system,upperdir=/run/live/rw/upper,workdir=/run/live/rw/work \
    overlay "${rootmnt}"
"""

DATA_MOUNT = "/run/bench-data"

#: The first-boot service: bench in auto mode on tty1 (the getty there is replaced).
SERVICE_UNIT = f"""[Unit]
Description=bench live: inventory, wipe and record this computer
After=local-fs.target systemd-udev-settle.service network.target
Wants=systemd-udev-settle.service
Conflicts=getty@tty1.service

[Service]
Type=idle
Environment=PYTHONPATH=/bench-app:/bench-deps PYTHONDONTWRITEBYTECODE=1
ExecStart=/usr/bin/python3 -m bench.cli.main live run --data {DATA_MOUNT}
StandardInput=tty
StandardOutput=tty
StandardError=journal+console
TTYPath=/dev/tty1
TTYReset=yes
TTYVHangup=yes
Restart=no

[Install]
WantedBy=multi-user.target
"""

NETWORK_UNIT = """[Match]
Name=en* eth*

[Network]
DHCP=yes
"""

#: Every wired interface tries DHCP; nothing waits for it (the data partition is the path that always works).
SYSTEMD_ENABLE: tuple[tuple[str, str], ...] = (
    ("bench-live.service", "multi-user.target.wants"),
    ("systemd-networkd.service", "multi-user.target.wants"),
    ("systemd-resolved.service", "multi-user.target.wants"),
)

#: Units that would touch the machine's disks or wait for a network nobody needs.
SYSTEMD_MASK: tuple[str, ...] = (
    "systemd-networkd-wait-online.service",
    "systemd-gpt-auto-generator",
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "e2scrub_all.timer",
    "fstrim.timer",
)

GRUB_MODULES_COMMON: tuple[str, ...] = (
    "part_gpt",
    "part_msdos",
    "fat",
    "search",
    "search_fs_uuid",
    "normal",
    "linux",
    "echo",
    "configfile",
    "test",
    "sleep",
    "gzio",
    "minicmd",
    "serial",
    "terminal",
)
GRUB_MODULES_BIOS: tuple[str, ...] = ("biosdisk",)
#: The boot menu on the screen and on a serial port (a laptop without one ignores it).
GRUB_SERIAL = "serial --unit=0 --speed=115200\nterminal_input console serial\nterminal_output console serial"
GRUB_MODULES_EFI: tuple[str, ...] = ("efi_gop", "efi_uga")

#: Kernel command line: the system partition by PARTUUID, no GPT auto-mounting, both consoles
#: (the last one, tty0, is /dev/console).
KERNEL_ARGS = "rootfstype=squashfs ro systemd.gpt_auto=0 console=ttyS0,115200 console=tty0 quiet loglevel=3"
