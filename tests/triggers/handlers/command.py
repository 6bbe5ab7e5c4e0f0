"""The command of the exec invoker tests: reads the event on stdin and does what argv[1] says."""

import json
import os
import subprocess
import sys
import time


def main(mode: str) -> None:
    event = json.load(sys.stdin)
    if mode == "echo":
        names = (
            "_HANDLER",
            "AWS_LAMBDA_FUNCTION_NAME",
            "AWS_REGION",
            "COLOR",
            "RIVULET_MASTER_KEY",
        )
        json.dump(
            {"event": event, "env": {name: os.environ.get(name) for name in names}}, sys.stdout
        )
    elif mode == "fail":
        print("loaded 2 records", file=sys.stderr)
        print("record 2 is malformed", file=sys.stderr)
        sys.exit(1)
    elif mode == "garbage":
        print("done!")
    elif mode == "hang":
        # A child of its own, to show the timeout kills the whole process group.
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        with open(event["pids"], "w") as pids:
            pids.write(f"{os.getpid()} {child.pid}")
        time.sleep(60)


if __name__ == "__main__":
    main(sys.argv[1])
