<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>{{title}}</title>
  <link rel="stylesheet" href="{{asset('chat.css')}}">
  % for script in get('scripts', ()):
  <script src="{{asset(script)}}" defer></script>
  % end
</head>
<body>
{{!base}}
</body>
</html>
