"""Symbolic names for the small integers the v9 model stores in its state."""

# vq->heads[i].len, abstracted to three classes (see docs/model.md).
VHOST_DMA_CLEAR_LEN = 0
VHOST_DMA_DONE_LEN = 1
LEN_IN_FLIGHT = 2  # a real length >= VHOST_GOODCOPY_LEN: DMA not done yet

# Descriptor length class the guest writes: copied or zero-copied.
LEN_SMALL = 0  # len < VHOST_GOODCOPY_LEN
LEN_LARGE = 1  # len >= VHOST_GOODCOPY_LEN

# Backend socket kinds (vq->private_data): NULL, a SOCK_ZEROCOPY socket, a plain one.
SOCK_NONE = 0
SOCK_ZC = 1
SOCK_COPY = 2
SOCK_NAMES = {SOCK_NONE: "none", SOCK_ZC: "zerocopy", SOCK_COPY: "copy"}

# Socket object states (sock_state[id]; socket ids: 0 is NULL, then one per socket opened)
SOCKET_UNOPENED = 0
SOCKET_HELD = 1  # vhost holds a file reference (get_socket in vhost_net_set_backend)
SOCKET_RELEASED = 2  # vhost did fput(sock->file): assumed the last reference

# net->tx_poll_state
POLL_DISABLED = 0
POLL_STOPPED = 1
POLL_STARTED = 2

# vq->mutex holder
MUTEX_FREE = 0
MUTEX_WORKER = 1
MUTEX_CONTROL = 2

# vhost_ubuf_ref object states
OBJ_UNALLOCATED = 0
OBJ_ALIVE = 1
OBJ_FREED = 2

# Work items of the TX virtqueue
ITEM_NONE = 0
ITEM_KICK = 1  # vq->poll: guest kick, VHOST_NET_WEIGHT requeue
ITEM_SOCK = 2  # net->poll[VHOST_NET_VQ_TX]: socket write space

# Worker program counter (handle_tx)
W_IDLE = 0
W_READ_SOCK = 1
W_WMEM = 2
W_LOCK = 3
W_SIGNAL = 4
W_GET = 5
W_EMPTY = 6
W_REDISABLE = 7
W_BOOKKEEP = 8
W_SENDMSG = 9
W_SENT = 10
W_ERR_ROLLBACK = 11
W_STOPPED = 12
W_SEND_FAILED = 13  # (--lower-device tun) the skb was freed inside sendmsg; the error returns
W_PC_NAMES = (
    "idle", "read-sock", "wmem", "lock", "signal-used", "get-desc", "empty",
    "re-disable", "bookkeep", "sendmsg", "sent", "err-rollback", "stopped", "send-failed",
)

# Userspace control program counter
C_IDLE = 0
C_SWAP = 1  # holds vq->mutex in vhost_net_set_backend
C_PUT = 2  # vhost_ubuf_put_and_wait: kref_put
C_SELF_WAKE = 3  # kref_put hit zero: vhost_zerocopy_done_signal
C_WAIT = 4  # wait_event: test the condition
C_SLEEP = 5  # wait_event: asleep on ubufs->wait
C_FREE = 6  # kfree(ubufs)
C_FLUSH = 7  # vhost_net_flush_vq / vhost_poll_flush: wait for queued work
C_STOP = 8  # release: vhost_net_stop under vq->mutex
C_CLEANUP = 9  # vhost_dev_cleanup: vhost_poll_stop + flush of the kick poll
C_SIGNAL = 10  # vhost_dev_cleanup: vhost_zerocopy_signal_used
C_FINISH = 11  # vhost_dev_cleanup reset, worker stop, free device
C_DONE = 12  # device released
C_PC_NAMES = (
    "idle", "set-backend-swap", "put", "self-wake", "wait", "sleep", "kfree",
    "flush", "stop", "cleanup", "signal-used", "finish", "released",
)

# What the control thread is doing
OP_NONE = 0
OP_SET_BACKEND = 1
OP_RELEASE = 2

# Errors recorded by the monitors (first one wins)
USE_OK = 0
USE_RETURN_NOT_OUTSTANDING = 1
USE_RETURN_DURING_DMA = 2
USE_SLOT_REUSED = 3
USE_UBUF_REUSED = 4
USE_USED_RING_OVERFLOW = 5
USE_ERRORS = {
    USE_RETURN_NOT_OUTSTANDING: "a head was added to the used ring while not outstanding in vhost",
    USE_RETURN_DURING_DMA: "a head was added to the used ring while a DMA still reads its buffer",
    USE_SLOT_REUSED: "heads[upend_idx] was overwritten while the DMA of that slot is outstanding",
    USE_UBUF_REUSED: "ubuf_info[head] was overwritten while a DMA that uses it is outstanding",
    USE_USED_RING_OVERFLOW: "the used ring overflowed: more heads returned than the ring holds",
}

MEM_OK = 0
MEM_UBUF_INFO_OOB = 1
MEM_NULL_UBUFS = 2
MEM_UAF_UBUFS = 3
MEM_REFCOUNT_UNDERFLOW = 4
MEM_UAF_VQ = 5
MEM_UAF_SOCK = 6
MEM_KREF_GET_ZERO = 7
MEM_ERRORS = {
    MEM_UBUF_INFO_OOB: "ubuf_info[head] indexed at head >= UIO_MAXIOV (out of bounds)",
    MEM_NULL_UBUFS: "a NULL vhost_ubuf_ref was dereferenced",
    MEM_UAF_UBUFS: "a freed vhost_ubuf_ref was read or written (use after free)",
    MEM_REFCOUNT_UNDERFLOW: "a vhost_ubuf_ref refcount went below zero",
    MEM_UAF_VQ: "a completion touched the virtqueue after the device was freed",
    MEM_UAF_SOCK: "a socket was used (sendmsg, poll, wait queue) after vhost released it (fput)",
    MEM_KREF_GET_ZERO: "kref_get on a vhost_ubuf_ref whose refcount already reached 0 "
                       "(kref_get's WARN_ON: the reference was already released)",
}
