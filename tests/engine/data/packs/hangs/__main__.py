# A pack that never prints its port: the engine must time out and exit 2.
import time

time.sleep(3600)
