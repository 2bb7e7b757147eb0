"""What the lab keeps of every VM before it powers them off: enough to find out
afterwards why a PE did not register (the journal of the pool services, networkd
and cloud-init, RSPLIB's own log lines in it, the SCTP associations and
endpoints, the addresses and routes).  Written to ``vms/<name>/``; a VM that
does not answer gets a file that says so."""

import threading

from mecpool.rserpool.units import PE_WATCHDOG_SERVICE, POOL_ELEMENT_SERVICE, REGISTRAR_SERVICE

# file name -> shell line run as root on the VM.  /proc/net/sctp is read as well as
# `ss`: ss needs the sctp_diag module, the proc files only sctp itself.
COLLECT = (
    ("journal.txt", "journalctl -b -o short-precise --no-pager -u {} -u {} -u {} -u systemd-networkd "
                    "-u cloud-init-local -u cloud-init -u cloud-config -u cloud-final".format(
                        POOL_ELEMENT_SERVICE, REGISTRAR_SERVICE, PE_WATCHDOG_SERVICE)),
    ("sctp.txt", "echo '# ss -A sctp'; ss -A sctp -a -n -p -e -i 2>&1; "
                 "echo '# /proc/net/sctp/assocs'; cat /proc/net/sctp/assocs 2>&1; "
                 "echo '# /proc/net/sctp/eps'; cat /proc/net/sctp/eps 2>&1"),
    ("network.txt", "ip -o addr; echo; ip route; echo; networkctl list --no-legend 2>&1"),
    ("cloud-init-output.log", "cat /var/log/cloud-init-output.log"),
)
TIMEOUT_S = 120


def keep(runs, run_dir):
    """Collect COLLECT from every VM in ``runs`` (name -> lab.VmRun that was started),
    in parallel; returns the names of the files written."""
    written = []

    def collect(name, run):
        directory = run_dir / "vms" / name
        directory.mkdir(parents=True, exist_ok=True)
        for filename, command in COLLECT:
            try:
                done = run.guest.sudo(command, check=False, timeout=TIMEOUT_S)
                text = done.stdout + (("\n# stderr\n" + done.stderr) if done.stderr.strip() else "")
            except Exception as error:  # noqa: BLE001 - a VM that does not answer is evidence too
                text = "# not collected: {}\n".format(error)
            (directory / filename).write_text(text)
            written.append(str(directory / filename))

    threads = [threading.Thread(target=collect, args=(name, run)) for name, run in runs.items()
               if run.started is not None and run.guest is not None]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return written
