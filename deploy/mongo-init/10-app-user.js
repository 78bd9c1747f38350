// Runs once, when MongoDB's data volume is first initialised (docker-entrypoint-initdb.d), as
// the root user: creates the application user satwatch connects as, with readWrite on its own
// database only. The password comes from the mounted secret, never from this file.
const fs = require('fs');
const password = fs.readFileSync('/run/secrets/mongo_app_password', 'utf8').trim();
const database = process.env.MONGO_INITDB_DATABASE || 'satwatch';
db.getSiblingDB(database).createUser({
  user: 'satwatch',
  pwd: password,
  roles: [{ role: 'readWrite', db: database }],
});
