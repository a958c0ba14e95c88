#!/bin/bash
# dockerd on the node's own socket and on TCP 2375 (the test network only, never published beyond
# the host's loopback). INSECURE_REGISTRIES: registries pulled over plain HTTP (the cluster's own).
# The node runs with every capability the host grants but not --privileged (this host lacks
# CAP_SYS_RESOURCE, which --privileged asks for), so /sys and its own cgroups come read-only:
# remounted writable, dockerd nests its containers' cgroups under the node's.
set -euo pipefail
mount -o remount,rw /sys
for controller in /sys/fs/cgroup/*; do
  mountpoint -q "$controller" && mount -o remount,bind,rw "$controller"
done
# A node killed and started again (a crash, a power cut) keeps its disk, /var/run included: what a
# host's boot clears goes here, or dockerd refuses to start ("pid file found").
rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid
args=(--host unix:///var/run/docker.sock --host tcp://0.0.0.0:2375 --storage-driver overlay2)
for r in ${INSECURE_REGISTRIES:-}; do args+=(--insecure-registry "$r"); done
exec dockerd "${args[@]}" "$@"
