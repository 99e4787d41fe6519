#!/bin/sh
# PID 1 of a rig guest. Mounts, loads drivers, optionally enters the host root over 9p with udevd,
# then serves commands from the host on the virtio-serial port rig.cmd (the console, ttyS0,
# carries kernel messages; a 16550 port stalled under load with large outputs).
# Protocol, one line per command from the host:  ID TIMEOUT WHERE BASE64(script)
#   WHERE = guest (run in this initramfs) | host (run chrooted in the host root, 9p mode only)
# Answer: @@RIG-OUT ID@@, base64(stdout), @@RIG-ERR ID@@, base64(stderr), @@RIG-RC=ID,N@@
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts
mount -t tmpfs tmp /tmp; mount -t tmpfs run /run
ifconfig lo 127.0.0.1 up 2>/dev/null
. /rig/boot.env
echo "$RIG_PRINTK" > /proc/sys/kernel/printk
for m in $(cat /rig/modules.boot); do modprobe "$m" 2>/dev/null || echo "rig: modprobe $m failed"; done
mount -t configfs none /sys/kernel/config 2>/dev/null
# wait (up to 60 s) until the disks the host attached are probed, USB being the slowest
n=0
while [ "$(ls /sys/block | grep -cE '^(sd[a-z]+|nvme[0-9]+n[0-9]+)$')" -lt "$RIG_DISKS" ] && [ $n -lt 600 ]; do
  sleep 0.1; n=$((n+1))
done
[ $n -ge 600 ] && echo "rig: only $(ls /sys/block | tr '\n' ' ') after 60 s, expected $RIG_DISKS disks"

if [ "$RIG_MODE" = host ]; then
  mkdir -p /host
  mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /host \
    || echo "@@RIG-FATAL 9p mount failed@@"
  for d in proc sys dev; do mount --rbind /$d /host/$d; done
  # The guest's own /tmp and /run hide the host's: a checkout or a Python environment that lives
  # there (CI may clone into /tmp, a packager's venv may sit there) is bound back in from a
  # second view of the host root.
  mkdir -p /hostview && mount --bind /host /hostview
  mount -t tmpfs run /host/run; mount -t tmpfs tmp /host/tmp
  for keep in "$RIG_REPO" "$RIG_PREFIX"; do
    case "$keep" in /tmp/*|/run/*)
      mkdir -p "/host$keep" && mount --bind "/hostview$keep" "/host$keep" ;; esac
  done
  cp -a /rig/files/. /host/tmp/ 2>/dev/null
  chroot /host /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin SYSTEMD_IGNORE_CHROOT=1 \
    sh -c '/lib/systemd/systemd-udevd --daemon >/dev/null 2>&1; udevadm trigger --action=add; udevadm settle -t 60'
else
  cp -a /rig/files/. /tmp/ 2>/dev/null
fi

serve() {
  echo "@@RIG-READY@@"
  while IFS= read -r line; do
    set -- $line
    id=$1; limit=$2; where=$3
    [ -z "$id" ] && continue
    [ "$id" = quit ] && break
    echo "$4" | base64 -d > /tmp/rig-cmd.sh
    if [ "$where" = host ]; then
      cp /tmp/rig-cmd.sh /host/run/rig-cmd.sh
      timeout -s KILL "$limit" chroot /host /usr/bin/env -i \
        PATH="$RIG_BIN:/usr/sbin:/usr/bin:/sbin:/bin" HOME=/tmp TMPDIR=/tmp \
        BENCH_CONFIG=/tmp/bench.toml SYSTEMD_IGNORE_CHROOT=1 PYTHONDONTWRITEBYTECODE=1 \
        LANG=C.UTF-8 RIG_REPO="$RIG_REPO" sh /run/rig-cmd.sh </dev/null >/tmp/rig-out 2>/tmp/rig-err 3>&-
    else
      timeout -s KILL "$limit" sh /tmp/rig-cmd.sh </dev/null >/tmp/rig-out 2>/tmp/rig-err 3>&-
    fi
    rc=$?
    echo "@@RIG-OUT $id@@"; base64 /tmp/rig-out
    echo "@@RIG-ERR $id@@"; base64 /tmp/rig-err
    echo "@@RIG-RC=$id,$rc@@"
  done
}
port=
n=0
while [ -z "$port" ] && [ $n -lt 100 ]; do
  for p in /sys/class/virtio-ports/*; do
    [ "$(cat "$p/name" 2>/dev/null)" = rig.cmd ] && [ -c "/dev/${p##*/}" ] && port=/dev/${p##*/}
  done
  [ -z "$port" ] && sleep 0.1; n=$((n+1))
done
[ -n "$port" ] || echo "@@RIG-FATAL no virtio port rig.cmd@@"
# a virtio port opens once: one read-write fd, duplicated
exec 3<>"$port"
serve <&3 >&3 2>&3
sync
poweroff -f
