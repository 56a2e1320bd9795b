"""Every write of the chat: validate, change in one transaction, publish after commit.

REST views and WebSocket consumers call these functions and nothing else to write:

    conversations  start a direct chat, create a group, rename, delete / hide
    members        add, remove, leave
    messages       send, edit, delete
    reads          move a read pointer
    sequencing     the locked conversation write that numbers and stores events
"""
