"""Monitor: served traffic, its drift against the reference period, replays."""
