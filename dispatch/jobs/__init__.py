"""Jobs: creating and cancelling what employers ask for, whatever channel it came by."""
