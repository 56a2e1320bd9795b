"""Every write of the chat: validate, change in one transaction, publish after commit.

REST views (parley.api) and socket commands (parley.realtime.commands) call these
functions and nothing else to write; only they publish, with
`events.publish_on_commit`, so a rolled-back write is never seen:

    conversations  start a direct chat, create a group, rename, delete / hide
    members        add, remove, leave
    messages       send, edit, delete
    reads          move a read pointer
    users          erase a user's messages, close their sockets
    sequencing     the locked conversation write that numbers and stores events
    sending        the send path's fixed SQL
"""
